"""DynamoDB repositories over the one state table (pk, sk, ttl). Every key starts with the tenant id.

Key families (pk | sk):
  TENANT#{t}              | CONFIG                        tenant configuration
  TENANT#{t}              | CRED#{key_id}                 tenant API credential (sha256 of the secret)
  TENANT#{t}              | CURSOR#{name}                 cursors (export periods, CDC)
  TENANT#{t}#MAP#{target} | {entity}#{source_id}          mapping source id -> target id, token, hash
  TENANT#{t}#INTENT#{tgt} | {entity}#{source_id}          create intents (exactly-once)
  TENANT#{t}#LOG          | {iso time}#{id}               sync log (TTL)
  TENANT#{t}#EVENT        | {event id}                    webhook deliveries seen (TTL)
  TENANT#{t}#EXPORT       | {export id}                   export manifests (one per connector, connection, period)
  TENANT#{t}#EXPORT#{id}  | ...                           ids delivered by an export, per day, in chunks
  TENANT#{t}#IMPORTED#{c}#{day} | ...                     ids confirmed as imported (never exported again)
  TENANT#{t}#LAYOUT       | {layout name}                 the tenant's custom layouts
  TENANT#{t}              | QBOTOKEN                      version and refresh lease of the QBO tokens
"""
