"""The API's OpenAPI description of our token authentication (accounts.mfa): knox's, by name."""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class MfaTokenScheme(KnoxTokenScheme):
    target_class = "accounts.mfa.MfaTokenAuthentication"
