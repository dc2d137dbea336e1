"""The OAuth 2.1 authorization server, one module per specification.

Framework-free: handlers take the unit of work (``domain.stores.Stores``), the
server's configuration (:class:`authgate.oauth.server.Server`) and an
:class:`authgate.oauth.requests.OAuthRequest`, and give back an
:class:`authgate.oauth.requests.OAuthResponse` (errors included, so that state a
refusal must keep, such as a revoked family or a slowed-down device, commits).
``authgate.web.authorization_server.endpoints`` is the one adapter onto HTTP.
"""
