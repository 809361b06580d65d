"""allauth's `SocialToken` (unused: tokens live encrypted in `characters.CharacterToken`) and
`SocialApp` (the app comes from the environment) are taken out of the admin, so no one adds a
token or a client secret there. (This app comes after allauth's in INSTALLED_APPS, so its
admin module runs after allauth registered them.)"""

from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin

for model in (SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
