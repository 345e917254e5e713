"""HTTP routes, one module per area of docs/api-contract.md."""
