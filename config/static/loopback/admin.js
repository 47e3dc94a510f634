// The whole of a value cut short in a list's cell (see admin.css), as the cell's title: shown on
// hover. Cells whose value fits get none.
(function () {
  function titleCutCells() {
    document.querySelectorAll("#result_list td, #result_list th").forEach(function (cell) {
      if (cell.scrollWidth > cell.clientWidth && !cell.title) {
        cell.title = cell.textContent.trim();
      }
    });
  }
  window.addEventListener("load", titleCutCells);
  window.addEventListener("resize", titleCutCells);
})();
