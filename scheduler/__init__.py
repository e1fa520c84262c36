"""Timed jobs: declared once, scheduled per team in the team's timezone, run once per period."""
