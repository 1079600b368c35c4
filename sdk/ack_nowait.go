package sdk

// Send-only acknowledgements. Ack/AckAll wait for the broker's confirmation
// (one round trip); AckNoWait only buffers the ack on the connection, like
// the plain +ACK of memphis-py and nats.go's Msg.Ack. The ack is therefore
// at-least-once: if the connection drops before the buffered ack is
// written, the message is redelivered after max_ack_time. Conn.Close
// writes buffered acks out (nats.go flushes its write buffer on close), and
// Consumer.Destroy's de-registration request follows the acks on the same
// connection, so the broker sees the acks first.

// AckNoWait acknowledges the message without waiting for the broker. A DLS
// resend is acknowledged on $memphis_pm_acks (§8.6), also without waiting.
func (m *Message) AckNoWait() error {
	if m == nil || m.msg == nil || m.cons == nil {
		return newErr(CodeInvalidArgument, opAck, "not a consumed message")
	}
	conn := m.cons.conn
	if err := conn.checkOpen(opAck); err != nil {
		return err
	}
	if m.dls {
		return m.publishPMAck()
	}
	if m.msg.Reply == "" {
		return newErr(CodeInvalidArgument, opAck, "message has no reply subject")
	}
	return wrapErr(opAck, conn.nc.Publish(m.msg.Reply, ackPayload))
}

// AckAllNoWait sends every ack of msgs without waiting for confirmations.
// All messages are attempted; the first failure is returned.
func AckAllNoWait(msgs []*Message) error {
	var first error
	for _, m := range msgs {
		if err := m.AckNoWait(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
