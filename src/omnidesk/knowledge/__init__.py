"""Knowledge base: articles, full-text search with the database's own index, the help center.

See docs/knowledge.md.
"""
