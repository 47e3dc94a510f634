from config.bench.orchestrator import main

raise SystemExit(main())
