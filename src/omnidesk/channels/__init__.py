"""Channel adapters behind one small contract; configured per tenant."""
