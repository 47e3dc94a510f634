"""The progress callback services that walk many rows take (`on_progress=`), for the commands.

A service calls it after each batch with the number of rows that batch did; it changes nothing
else in the service. `config.commands.OperatorCommand.progress` gives one that shows a terminal
line, or None.
"""

from collections.abc import Callable

OnProgress = Callable[[int], None]
