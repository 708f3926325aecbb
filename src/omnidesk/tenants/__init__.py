"""Tenants: fully isolated client accounts in one installation."""
