"""Policy's data access: the queries its journeys run, apart from their decisions."""
