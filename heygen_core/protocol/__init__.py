"""The wire contract at run time: decoding, encoding and the typed event unions.

`codec` decodes and encodes messages; `events` names one event union per
protocol and direction (`LiteServerEvent`, `FullClientEvent`, ...);
`schemas` and `constraints` give the schema documents and their checks.
"""
