"""``python -m mailmoat.cli``."""

from mailmoat.cli.main import main

raise SystemExit(main())
