// kotelgo: a producer and a consumer on Debian's confluent-kafka-go 0.11.6
// (cgo, linked to the system librdkafka), for kotel's compatibility suite.
//
//	kotelgo [-hold] produce BOOTSTRAP TOPIC N   keys k0..kN-1, one "dr" line per delivery
//	kotelgo [-hold] consume BOOTSTRAP TOPIC N GROUP   one "msg" line per message
//
// Both shut their clients down cleanly (Flush + Close, Close) and then
// return from main, which in Go ends the process without C exit handlers:
// spans the agent still holds are lost unless it exports them when the
// last client closes. With -hold the program prints "closed" after closing
// its clients and then waits for its standard input to end, so a test can
// wait for the spans of a live process and then let it go.
package main

import (
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"strconv"
	"time"

	"github.com/confluentinc/confluent-kafka-go/kafka"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kotelgo: "+format+"\n", args...)
	os.Exit(1)
}

func produce(bootstrap, topic string, n int) {
	p, err := kafka.NewProducer(&kafka.ConfigMap{"bootstrap.servers": bootstrap})
	if err != nil {
		die("NewProducer: %v", err)
	}
	dr := make(chan kafka.Event, n)
	for i := 0; i < n; i++ {
		err = p.Produce(&kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: kafka.PartitionAny},
			Key:            []byte(fmt.Sprintf("k%d", i)),
			Value:          []byte(fmt.Sprintf("v%d", i)),
			Headers:        []kafka.Header{{Key: "app", Value: []byte("go")}},
		}, dr)
		if err != nil {
			die("Produce: %v", err)
		}
	}
	for i := 0; i < n; i++ {
		select {
		case ev := <-dr:
			m := ev.(*kafka.Message)
			if m.TopicPartition.Error != nil {
				die("delivery: %v", m.TopicPartition.Error)
			}
			fmt.Printf("dr key=%s partition=%d offset=%d\n", m.Key,
				m.TopicPartition.Partition, m.TopicPartition.Offset)
		case <-time.After(60 * time.Second):
			die("no delivery report after 60s")
		}
	}
	if left := p.Flush(30000); left != 0 {
		die("Flush: %d messages left", left)
	}
	p.Close()
}

func consume(bootstrap, topic string, n int, group string) {
	c, err := kafka.NewConsumer(&kafka.ConfigMap{
		"bootstrap.servers":  bootstrap,
		"group.id":           group,
		"auto.offset.reset":  "earliest",
		"enable.auto.commit": false,
	})
	if err != nil {
		die("NewConsumer: %v", err)
	}
	if err = c.SubscribeTopics([]string{topic}, nil); err != nil {
		die("SubscribeTopics: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for got := 0; got < n; {
		if time.Now().After(deadline) {
			die("%d of %d messages after 60s", got, n)
		}
		m, err := c.ReadMessage(time.Second)
		if err != nil {
			if e, ok := err.(kafka.Error); ok && e.Code() == kafka.ErrTimedOut {
				continue
			}
			die("ReadMessage: %v", err)
		}
		tp := "-"
		for _, h := range m.Headers {
			if h.Key == "traceparent" {
				tp = string(h.Value)
			}
		}
		fmt.Printf("msg key=%s partition=%d offset=%d traceparent=%s\n", m.Key,
			m.TopicPartition.Partition, m.TopicPartition.Offset, tp)
		got++
	}
	if err = c.Close(); err != nil {
		die("Close: %v", err)
	}
}

func main() {
	hold := len(os.Args) > 1 && os.Args[1] == "-hold"
	if hold {
		os.Args = append(os.Args[:1], os.Args[2:]...)
	}
	if len(os.Args) < 5 {
		die("usage: kotelgo [-hold] produce|consume BOOTSTRAP TOPIC N [GROUP]")
	}
	n, err := strconv.Atoi(os.Args[4])
	if err != nil || n < 1 {
		die("bad count %q", os.Args[4])
	}
	switch {
	case os.Args[1] == "produce":
		produce(os.Args[2], os.Args[3], n)
	case os.Args[1] == "consume" && len(os.Args) == 6:
		consume(os.Args[2], os.Args[3], n, os.Args[5])
	default:
		die("usage: kotelgo [-hold] produce|consume BOOTSTRAP TOPIC N [GROUP]")
	}
	if hold {
		fmt.Println("closed")
		io.Copy(ioutil.Discard, os.Stdin)
	}
}
