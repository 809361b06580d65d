"""The EVE SSO v2 provider for django-allauth (allauth's bundled `eveonline` provider calls
the retired v1 verify endpoint): endpoints from the SSO's metadata, the access token validated
as a JWT by `characters.sso`, the character id as the account uid."""
