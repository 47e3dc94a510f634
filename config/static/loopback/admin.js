// The whole of a value cut short (see admin.css), as its title, shown on hover: a list's cells
// cut at their width, an inline's values cut after three lines. Values that fit get none.
(function () {
  function titleCutValues() {
    document.querySelectorAll("#result_list td, #result_list th").forEach(function (cell) {
      if (cell.scrollWidth > cell.clientWidth && !cell.title) {
        cell.title = cell.textContent.trim();
      }
    });
    document.querySelectorAll(".inline-group .tabular td > p").forEach(function (value) {
      if (value.scrollHeight > value.clientHeight && !value.title) {
        value.title = value.textContent.trim();
      }
    });
  }
  window.addEventListener("load", titleCutValues);
  window.addEventListener("resize", titleCutValues);
})();
