"""The ACD service: runs the pure routing engine for each tenant inside the server."""
