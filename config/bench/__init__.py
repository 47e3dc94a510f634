"""The performance benchmark behind `make bench` (see docs/benchmarks.md).

`views`/`urls`: the floor endpoint, mounted only when BENCH_FLOOR_ENABLED is on. The rest runs
outside the server: `orchestrator` (the driver, `python -m config.bench`), `seeding` (bulk SQL),
`probes` (query counts and the scale measurements, in-process), `receiver` (the local 204 target),
`report` (JSON and Markdown), `lua/` (the wrk scripts).
"""
