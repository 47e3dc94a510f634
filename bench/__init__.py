"""The performance benchmark behind `make bench` (`python -m bench`; see docs/benchmarks.md).

Not part of the product: `config/` knows nothing of it. `settings` (the production settings plus
the floor) and `urls` mount `views`, the floor endpoint, on the bench's own server only.
The driver runs outside the server: `cli` (arguments and the run), `processes` (what it starts
and stops, the database and Redis it resets), `hot_paths` (the HTTP part under wrk, through
`load`), `scale` (the admin and the commands at scale), `seeding` (bulk SQL), `probes` (query
counts and timings, in-process), `receiver` (the local 204 target), `peak_rss` and
`export_probe` (memory of one command), `report` (JSON and Markdown), `lua/` (the wrk script).
"""
