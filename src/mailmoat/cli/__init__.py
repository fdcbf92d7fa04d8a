"""The mailmoat command line: dev stack, single services, migrations, admin."""
