"""A stored appraisal: its short code, who may read it, until when, and the answer itself.

The answer is stored whole, as computed: an appraisal is pinned to the snapshots it read (it
names their generations), which the store keeps only two hours, so the figures are kept
rather than recomputed. A private appraisal is read only with its link token.
"""

from __future__ import annotations

from django.db import models


class Appraisal(models.Model):
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    private = models.BooleanField(default=False)
    token = models.CharField(max_length=32, blank=True, help_text="The link token (private)")
    market_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, help_text="The format that read most lines")
    raw = models.TextField(blank=True, help_text="The text as pasted")
    answer = models.JSONField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code} ({self.market_name})"
