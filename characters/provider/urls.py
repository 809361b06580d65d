from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from characters.provider.provider import EveSsoProvider

urlpatterns = default_urlpatterns(EveSsoProvider)
