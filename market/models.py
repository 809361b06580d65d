"""The Upwell structures this deployment knows of (issue 15, docs/structures.md).

ESI's region books show no structure sell orders, and of a structure's bids only those of a
range wider than the structure; its whole book is `GET /markets/structures/{id}/`, answered
only to a character with docking access. So a structure is learned from what ESI shows
legitimately (never by enumerating the search endpoint, which CCP bans) and kept here with
where it was learned and what is known of it. Its name, told by ESI only to a character with
docking access, is kept here only when a character shares the structure's market with this
deployment (private names stay with the character's own data: characters/data.py).
"""

from __future__ import annotations

from django.db import models


class Structure(models.Model):
    class Learned(models.TextChoices):
        REGION_BOOK = "region_book", "A ranged buy order in a region's book"
        PUBLIC_LIST = "public_list", "ESI's public list of market structures"
        CHARACTER = "character", "A member who shared it or added it by id"
        OPERATOR = "operator", "Added by an operator"

    class Status(models.TextChoices):
        NO_ACCESS = "no_access", "No character shares it"
        SHARED = "shared", "Read through a member's access"
        DENIED = "denied", "Every sharing character was refused"
        SUSPENDED = "suspended", "Suspended by an operator"

    structure_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=200, blank=True)
    solar_system_id = models.IntegerField(null=True, blank=True)
    region_id = models.IntegerField(null=True, blank=True)
    type_id = models.IntegerField(null=True, blank=True, help_text="The structure's type")
    owner_id = models.BigIntegerField(null=True, blank=True, help_text="Owning corporation")
    learned_from = models.CharField(max_length=20, choices=Learned.choices)
    learned_at = models.DateTimeField(auto_now_add=True)
    market_status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NO_ACCESS
    )
    last_refresh = models.DateTimeField(null=True, blank=True)
    order_count = models.IntegerField(null=True, blank=True)
    broker_fee = models.DecimalField(
        max_digits=6,
        decimal_places=5,
        null=True,
        blank=True,
        help_text="Owner's broker fee, 0.01 = 1 % (the SCC's is added)",
    )
    is_hub = models.BooleanField(default=False, help_text="Gets opportunity boards")

    class Meta:
        ordering = ["structure_id"]

    def __str__(self) -> str:
        return self.name or f"Structure {self.structure_id}"
