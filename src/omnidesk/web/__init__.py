"""The browser pages: agent desktop, supervisor wallboard, admin; static files, no build step."""
