package devbroker

import (
	"github.com/libmemphis/libmemphis/internal/wire"
	"github.com/nats-io/nats-server/v2/server"
)

// internalInboxPrefix replaces "_INBOX" on the broker's own connections.
// SDK users may subscribe to "_INBOX.>" (every reply they get arrives
// there); with a prefix of its own, the replies the broker gets from
// JetStream (KV reads of its metadata) stay out of their reach.
const internalInboxPrefix = "$memphis_internal_inbox"

// sdkRequestSubjects are the subjects SDKs publish to and the broker
// listens on (protocol doc §1.4): requests and fire-and-forget side
// channels. SDK users may publish here and watch them with a plain
// subscription (libmemphis's tests observe what the SDK sends), but never
// join a queue group on them: the broker's queue subscriptions would then
// share the traffic with a stranger. A watcher cannot answer a request
// either, since SDK users may not publish to inboxes.
var sdkRequestSubjects = []string{
	wire.SubjStationCreate, wire.SubjStationDestroy,
	wire.SubjProducerCreate, wire.SubjProducerDestroy,
	wire.SubjConsumerCreate, wire.SubjConsumerDestroy,
	wire.SubjSchemaCreate, wire.SubjSchemaAttach, wire.SubjSchemaDetach,
	wire.SubjSchemaverseDLS, wire.SubjNotifications, wire.SubjNackedDLS, wire.SubjPMAcks,
}

// sdkPermissions is what every connection authenticated with the
// operator's credentials may do: exactly what the wire protocol needs, for
// libmemphis, memphis.go (nats.go jetstream) and memphis-py (nats-py). It
// follows the real broker's per-station role lists (memphis_handlers_rbac.go)
// with "*" for the stream token, since every SDK user may use every
// station here. Station streams are named "<station>$<partition>" and
// never contain ".", so one token matches one stream.
//
// JetStream API calls the SDKs make, per stream: STREAM.NAMES (nats-py's
// stream lookup by subject), STREAM.INFO (a stream's last sequence, for a
// last_messages durable an SDK creates itself), CONSUMER.INFO (binding, the
// 30 s consumer ping), CONSUMER.CREATE / DURABLE.CREATE (nats-py binds or
// creates; libmemphis re-creates a durable the broker did not make),
// CONSUMER.MSG.NEXT (fetch), acks. CONSUMER.DELETE and the consumer
// listings are in the real broker's read role too, and tests use them.
// Nothing may create, update, delete or purge a stream: streams are the
// control plane's.
//
// The deny lists fence off what the wildcards above would otherwise reach:
// the broker's metadata buckets (stations, producers, consumers, schemas
// and the DLS store) as streams, as KV subjects and as acks, inboxes, and
// the subjects only the broker may read.
func sdkPermissions() *server.Permissions {
	pubAllow := append([]string{
		// Produce: "<station>$<partition>.final" (§6.1). And, as the real
		// broker's role lists allow, "$memphis_dls_<station>.<group>"
		// (§8.6): libmemphis's tests play the broker resending a dead
		// letter. Subjects cannot be matched by token prefix, hence "*.*";
		// the deny list below takes out what it must not cover.
		"*.*",
		"$JS.API.INFO",
		"$JS.API.STREAM.NAMES",
		"$JS.API.STREAM.INFO.*",
		"$JS.API.CONSUMER.CREATE.*",
		"$JS.API.CONSUMER.CREATE.*.>",
		"$JS.API.CONSUMER.DURABLE.CREATE.*.*",
		"$JS.API.CONSUMER.INFO.*.*",
		"$JS.API.CONSUMER.DELETE.*.*",
		"$JS.API.CONSUMER.NAMES.*", // read-only listings: the real broker's read role
		"$JS.API.CONSUMER.LIST.*",  // has LIST, and the memphis CLI's tests list durables
		"$JS.API.CONSUMER.MSG.NEXT.*.*",
		"$JS.ACK.>",
		// A broker broadcast, but the real broker's role lists let users
		// publish it too, and libmemphis's tests play the broker with it.
		wire.SubjClientUpdates,
		// nats-server checks permissions after applying account subject
		// mappings, and routed stations' "<S>$<p>.final" is mapped here
		// (msgid_ingest.go). The ingest path forwards only to routed
		// stations' streams, so this opens nothing else.
		msgIDIngestPrefix + ".*",
	}, sdkRequestSubjects...)
	pubDeny := []string{
		"*." + ingestSuffix,         // straight into a stream, past the msg-id ingest path
		"_INBOX.>",                  // forged replies and messages into other clients' fetches
		internalInboxPrefix + ".>",  // forged KV deliveries to the broker
		clusterSubjectPrefix + ".>", // what the nodes of a cluster tell each other
	}
	for _, bucket := range allBuckets {
		stream := "KV_" + bucket
		pubDeny = append(pubDeny,
			"$JS.API.*.*."+stream, "$JS.API.*.*."+stream+".>",
			"$JS.API.*.*.*."+stream, "$JS.API.*.*.*."+stream+".>",
			"$JS.ACK."+stream+".>",
			"$KV."+bucket+".>",
		)
	}
	subAllow := []string{
		"_INBOX.>", // replies: control requests, PubAcks, pulls, API calls
		wire.SubjClientUpdates,
		"*",   // $memphis_schema_updates_<station>, $memphis_functions_updates_<station>
		"*.*", // $memphis_dls_<station>.<group> (§8.6)
	}
	// "$KV.>": JetStream delivers a KV watcher's messages to the broker's
	// two-token inbox under their own subject, and the server checks a
	// wildcard subscriber's deny list against that subject.
	subDeny := []string{
		internalInboxPrefix + ".>",
		clusterSubjectPrefix + ".>",
		msgIDIngestPrefix + ".>",
		"$KV.>",
	}
	for _, subj := range sdkRequestSubjects {
		subDeny = append(subDeny, subj+" >") // "subject queue": any queue group
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: pubAllow, Deny: pubDeny},
		Subscribe: &server.SubjectPermission{Allow: subAllow, Deny: subDeny},
	}
}
