"""Pages of the characters app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
