"""Agents, skills with proficiency, teams and agent states."""
