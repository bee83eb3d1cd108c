import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
} from '@opentelemetry/semantic-conventions';

/**
 * The span attributes gridstream sets. Stable ones come from @opentelemetry/semantic-conventions;
 * the messaging and CloudEvents ones are still incubating there, and its README asks that those
 * be copied rather than imported from `/incubating` (they may change in a minor release).
 */
export const Attr = {
  httpRequestMethod: ATTR_HTTP_REQUEST_METHOD,
  httpRoute: ATTR_HTTP_ROUTE,
  httpResponseStatusCode: ATTR_HTTP_RESPONSE_STATUS_CODE,
  errorType: ATTR_ERROR_TYPE,
  dbSystemName: ATTR_DB_SYSTEM_NAME,
  dbCollectionName: ATTR_DB_COLLECTION_NAME,
  dbOperationName: ATTR_DB_OPERATION_NAME,
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingDestinationName: 'messaging.destination.name',
  messagingDestinationPartitionId: 'messaging.destination.partition.id',
  messagingConsumerGroupName: 'messaging.consumer.group.name',
  messagingKafkaOffset: 'messaging.kafka.offset',
  messagingKafkaMessageKey: 'messaging.kafka.message.key',
  cloudEventsEventId: 'cloudevents.event_id',
  cloudEventsEventType: 'cloudevents.event_type',
} as const;
