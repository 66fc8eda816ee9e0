"""The simulated REST APIs: the request pipeline, auth, validation, replies and routes.

Every request goes through `endpoint` (count, fault, rate limit, auth,
validation) before the route of its operation (`liveavatar_routes`,
`streaming_routes`) answers it in its API's own shapes (`replies`).
"""
