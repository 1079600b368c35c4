package wire

// Control-plane subjects (§1.4).
const (
	SubjStationCreate    = "$memphis_station_creations"     // §4.1
	SubjStationDestroy   = "$memphis_station_destructions"  // §4.4
	SubjProducerCreate   = "$memphis_producer_creations"    // §5.1
	SubjProducerDestroy  = "$memphis_producer_destructions" // §5.3
	SubjConsumerCreate   = "$memphis_consumer_creations"    // §7.1
	SubjConsumerDestroy  = "$memphis_consumer_destructions" // §7.5
	SubjSchemaCreate     = "$memphis_schema_creations"      // §9.1
	SubjSchemaAttach     = "$memphis_schema_attachments"    // §9.3
	SubjSchemaDetach     = "$memphis_schema_detachments"    // §9.4
	SubjSchemaverseDLS   = "$memphis_schemaverse_dls"       // §6.6
	SubjNotifications    = "$memphis_notifications"         // §6.7
	SubjNackedDLS        = "$memphis_nacked_dls"            // §8.4
	SubjPMAcks           = "$memphis_pm_acks"               // §8.6
	SubjClientUpdates    = "$memphis_sdk_clients_updates"   // §2.6
	SubjSchemaUpdatesPre = "$memphis_schema_updates_"       // §9.5, + internal station
	DLSSubjectPrefix     = "$memphis_dls_"                  // §8.6, + internal station
)
