"""Route handlers, one module per resource of the contract."""
