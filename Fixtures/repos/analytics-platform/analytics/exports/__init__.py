"""One module per lake dataset. Each reads from the warehouse and sends records with ``emit``."""
