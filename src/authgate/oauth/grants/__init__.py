"""One module per grant type the token endpoint accepts; each exports
``grant(stores, server, client, request) -> OAuthResponse`` for an already
authenticated client allowed to use it."""
