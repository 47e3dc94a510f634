"""How the server's own pages write dates and times (settings.FORMAT_MODULE_PATH): one format, to
the second, in UTC and saying so (`2026-12-02 00:31:05 UTC`), for every timestamp the admin shows
(lists, change pages, inlines, history); `config.api.timestamps.utc_stamp` writes the same for
the text the admin composes itself. The inbox writes its own ("Tue 1 Dec 2026, 21:30 UTC")."""
