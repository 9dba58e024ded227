"""Calls Trail makes to addresses its users configure (webhooks), made safely.

    addresses   which addresses may be called: a URL's host is resolved and every address it
                resolves to must be global (not private, loopback, link-local, …) unless the
                deployment allows private targets
    client      one POST to a URL, connected to the very address that was checked (so a DNS
                answer that changes between the check and the connection cannot slip in),
                never following redirects
    sealing     secrets Trail must read back in clear to sign with, encrypted at rest

It knows nothing of Trail: the write side and the workers are handed what they need.
"""
