"""DynamoDB repositories over the one state table (pk, sk, ttl). Every key is built by state.keys; every
tenant's key starts with the tenant id, and a target's with its registry name.

Key families (pk | sk), who writes them and who reads them:
  TENANT#{t}                    | CONFIG               tenant configuration: admin (w), every function (r)
  TENANT#{t}                    | CRED#{key_id}        tenant API credentials (sha256): admin (w), api routes (r)
  TENANT#{t}                    | CURSOR#{name}        export periods, a target's catch-up: exports, sync.intake
  TENANT#{t}#MAP#{target}       | {entity}#{source_id} mapping source id -> target id, token, hash: sync.engine
  TENANT#{t}#MAP#{target}#REV   | {entity}#{target_id} reverse mapping: sync.engine (w), a target's pulls (r)
  TENANT#{t}#MAP#{target}       | payment#{p}#{inv}    what a target payment put on the platform: its Puller
  TENANT#{t}#MAP#{target}       | paymentstate#{p}     the payment version the platform agrees with: Puller, CatchUp
  TENANT#{t}#INTENT#{target}    | {entity}#{source_id} create intents (exactly-once): sync.engine
  TENANT#{t}#LOG                | {iso time}#{id}      sync log (TTL): sync engine and consumers (w), admin (r)
  TENANT#{t}#EVENT              | {target}#{event id}  events claimed once (TTL): sync.intake (webhooks, catch-ups)
  TENANT#{t}#EXPORT…, #IMPORTED… | …                   export manifests and delivered ids (state.exports)
  TENANT#{t}#LAYOUT             | {layout name}        custom layouts: files api (w), exports (r)
  TENANT#{t}                    | {TARGET}CONN         a target connection's status: its connect flow, its client
  TENANT#{t}                    | {TARGET}TOKEN        version and refresh lease of a target's OAuth tokens
  TENANT#{t}                    | OAUTHSTATE#{nonce}   a pending OAuth consent (TTL): a target's connect flow
  TENANT#{t}                    | CONSOLE#SESSION#{h}  a console session (sha256, TTL): console.sessions
  TENANT#{t}                    | CONSOLE#LINK#{h}     a one-time console sign-in link (TTL): console.sessions
  ACCOUNT#{target}#{account}    | TENANT               which tenant a target account belongs to: connect (w),
                                                       the target's webhook intake (r)
  ACCOUNT#{target}#{account}    | BUDGET               the request budget shared by every consumer of an account
  ACCOUNT#{target}#{account}    | SLOTS                requests in flight where the target caps them: its client
  TENANT#{t}#{TARGET}#OUTBOX    | {entity}#{source_id} prepared writes waiting for a target's own connector:
                                                       its consumer (w), its connector sessions (r, delete)
  TENANT#{t}#{TARGET}           | SESSION              the live connector session (lock) and the last one's state
  {TARGET}#TICKET#{ticket}      | SESSION              a connector session's state by ticket (TTL): its service
  TENANT#{t}#{TARGET}           | REFUSED              the connector's last refused sign-in: its service (w), console
  TENANT#{t}#{TARGET}           | CHECK                the last check of stored credentials: the console card
  TENANT#{t}#{TARGET}           | LEDGER#REQUEST       a period the console's reconciliation waits for: console (w),
                                                       the connector's next session (r, delete)
  TENANT#{t}#{TARGET}#LEDGER#{first}#{last} | PAGE#{reading}#{page} a period's ledger invoices a session reported (TTL)
"""
