from psr_engine.cli import main

raise SystemExit(main())
