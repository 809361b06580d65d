"""Account URLs under /accounts/: our pages first, then allauth's (the SSO callback at
/accounts/eveonline/login/callback/, and its error pages)."""

from django.urls import include, path
from django.views.generic import RedirectView

from characters import auth_views

urlpatterns = [
    path("login/", auth_views.login_page, name="eve-login"),
    path("login/eve/", auth_views.sso_login, name="eve-sso-login"),
    path("logout/", auth_views.logout, name="eve-logout"),
    path("characters/", auth_views.characters_page, name="eve-characters"),
    path("characters/link/", auth_views.link, name="eve-link"),
    path("characters/switch/", auth_views.switch, name="eve-switch"),
    path(
        "characters/<int:character_id>/features/<slug:key>/",
        auth_views.enable_feature,
        name="eve-feature-enable",
    ),
    path(
        "characters/<int:character_id>/reauthorise/",
        auth_views.reauthorise,
        name="eve-reauthorise",
    ),
    path("characters/<int:character_id>/unlink/", auth_views.unlink, name="eve-unlink"),
    # allauth's own connections page: ours lists the characters.
    path("3rdparty/", RedirectView.as_view(pattern_name="eve-characters")),
    path("", include("allauth.urls")),
]
