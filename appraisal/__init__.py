"""Appraisals: paste anything from the game, get what it is worth (issue 17)."""
