"""HTML views, one module per area: accounts, pages, tracks."""
