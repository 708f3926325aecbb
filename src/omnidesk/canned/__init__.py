"""Canned responses: reusable replies agents insert by typing /shortcut."""
