"""The engine: tables, the transition service, guards, budget ledger, deadlines, settings, CLI."""
