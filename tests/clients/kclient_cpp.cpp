/* kclient_cpp: an ordinary librdkafka++ program (it knows nothing of kotel)
 * for the integration tests to run under LD_PRELOAD.
 *
 *   kclient_cpp BOOTSTRAP produce TOPIC COUNT
 *   kclient_cpp BOOTSTRAP consume TOPIC COUNT GROUP
 *   kclient_cpp BOOTSTRAP forward TOPIC COUNT GROUP OUT_TOPIC
 *   kclient_cpp BOOTSTRAP badssl TOPIC COUNT
 *
 * Keys are "k0".."k<COUNT-1>". produce prints one line per delivery report
 * ("dr key=K err=E offset=O"); consume and forward one per message
 * ("msg key=K partition=P offset=O traceparent=TP"). forward produces a new
 * payload with a copied key to OUT_TOPIC, then deletes the message. */
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

int delivered, failed;

class Dr : public RdKafka::DeliveryReportCb {
      public:
        void dr_cb(RdKafka::Message &m) override
        {
                if (m.err())
                        failed++;
                else
                        delivered++;
                std::printf("dr key=%s err=%s offset=%lld\n",
                            m.key() ? m.key()->c_str() : "",
                            RdKafka::err2str(m.err()).c_str(),
                            static_cast<long long>(m.offset()));
        }
};

[[noreturn]] void die(const std::string &what)
{
        std::fprintf(stderr, "kclient_cpp: %s\n", what.c_str());
        std::exit(2);
}

RdKafka::Conf *base_conf(const std::string &brokers)
{
        RdKafka::Conf *c = RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL);
        std::string err;

        if (c->set("bootstrap.servers", brokers, err) != RdKafka::Conf::CONF_OK ||
            c->set("client.id", "kclient_cpp", err) != RdKafka::Conf::CONF_OK)
                die(err);
        return c;
}

RdKafka::Producer *make_producer(const std::string &brokers, Dr *dr)
{
        std::unique_ptr<RdKafka::Conf> c(base_conf(brokers));
        std::string err;

        c->set("linger.ms", "5", err);
        c->set("dr_cb", dr, err);
        RdKafka::Producer *p = RdKafka::Producer::create(c.get(), err);
        if (!p)
                die(err);
        return p;
}

/* Producer::create with a CA file that does not exist, COUNT times with the
 * same Conf (librdkafka++ hands rd_kafka_new a copy each time); then the
 * same Conf made plaintext, and one message delivered. */
int cmd_badssl(const std::string &brokers, const std::string &topic, int count)
{
        std::unique_ptr<RdKafka::Conf> c(base_conf(brokers));
        Dr dr;
        std::string err;

        if (c->set("security.protocol", "ssl", err) != RdKafka::Conf::CONF_OK ||
            c->set("ssl.ca.location", "/nonexistent/ca.pem", err) !=
                RdKafka::Conf::CONF_OK ||
            c->set("dr_cb", &dr, err) != RdKafka::Conf::CONF_OK)
                die(err);
        for (int i = 0; i < count; i++) {
                std::unique_ptr<RdKafka::Producer> p(
                    RdKafka::Producer::create(c.get(), err));
                std::printf("create %s: %s\n", p ? "ok" : "failed",
                            err.c_str());
        }
        c->set("security.protocol", "plaintext", err);
        std::unique_ptr<RdKafka::Producer> p(
            RdKafka::Producer::create(c.get(), err));
        if (!p)
                die(err);
        std::string key = "k0", value = "v";
        RdKafka::ErrorCode e = p->produce(
            topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
            const_cast<char *>(value.data()), value.size(), key.data(),
            key.size(), 0, nullptr);
        p->flush(20000);
        std::printf("produce %s delivered=%d\n", RdKafka::err2str(e).c_str(),
                    delivered);
        return delivered == 1 ? 0 : 1;
}

void produce_one(RdKafka::Producer *p, const std::string &topic,
                 const std::string &key, const std::string &value)
{
        RdKafka::ErrorCode e = p->produce(
            topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
            const_cast<char *>(value.data()), value.size(), key.data(),
            key.size(), 0, nullptr);
        if (e != RdKafka::ERR_NO_ERROR)
                std::printf("produce-error %s\n", RdKafka::err2str(e).c_str());
        p->poll(0);
}

int finish(RdKafka::Producer *p, int want)
{
        p->flush(10000);
        delete p;
        std::printf("delivered=%d failed=%d\n", delivered, failed);
        return delivered == want && !failed ? 0 : 1;
}

int cmd_produce(const std::string &brokers, const std::string &topic, int count)
{
        Dr dr;
        RdKafka::Producer *p = make_producer(brokers, &dr);

        for (int i = 0; i < count; i++)
                produce_one(p, topic, "k" + std::to_string(i),
                            "payload-" + std::to_string(i));
        return finish(p, count);
}

int cmd_consume(const std::string &brokers, const std::string &topic, int count,
                const std::string &group, const std::string &out)
{
        std::unique_ptr<RdKafka::Conf> c(base_conf(brokers));
        std::string err;
        Dr dr;
        RdKafka::Producer *p = out.empty() ? nullptr : make_producer(brokers, &dr);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        int seen      = 0;

        c->set("group.id", group, err);
        c->set("auto.offset.reset", "earliest", err);
        std::unique_ptr<RdKafka::KafkaConsumer> k(
            RdKafka::KafkaConsumer::create(c.get(), err));
        if (!k)
                die(err);
        if (k->subscribe({topic}) != RdKafka::ERR_NO_ERROR)
                die("subscribe");
        while (seen < count && std::chrono::steady_clock::now() < deadline) {
                RdKafka::Message *m = k->consume(200);
                std::string tp      = "-";

                if (m->err() == RdKafka::ERR_NO_ERROR) {
                        seen++;
                        if (m->headers()) {
                                RdKafka::Headers::Header h =
                                    m->headers()->get_last("traceparent");
                                if (h.err() == RdKafka::ERR_NO_ERROR && h.value())
                                        tp.assign(static_cast<const char *>(h.value()),
                                                  h.value_size());
                        }
                        std::string key = m->key() ? *m->key() : "";
                        std::printf("msg key=%s partition=%d offset=%lld traceparent=%s\n",
                                    key.c_str(), m->partition(),
                                    static_cast<long long>(m->offset()), tp.c_str());
                        std::fflush(stdout);
                        if (p)
                                produce_one(p, out, key, "fwd:" + key);
                }
                delete m;
        }
        k->close();
        std::printf("consumed=%d\n", seen);
        if (p)
                return finish(p, count) || seen != count;
        return seen == count ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
        if (argc < 5)
                die("usage: kclient_cpp BOOTSTRAP "
                    "produce|consume|forward|badssl TOPIC COUNT "
                    "[GROUP [OUT_TOPIC]]");
        std::setvbuf(stdout, nullptr, _IOLBF, 0);
        std::string brokers = argv[1], cmd = argv[2], topic = argv[3];
        int count = std::atoi(argv[4]);

        if (cmd == "produce")
                return cmd_produce(brokers, topic, count);
        if (cmd == "badssl")
                return cmd_badssl(brokers, topic, count);
        if (argc < 6)
                die("GROUP required");
        if (cmd == "consume")
                return cmd_consume(brokers, topic, count, argv[5], "");
        if (cmd == "forward" && argc >= 7)
                return cmd_consume(brokers, topic, count, argv[5], argv[6]);
        die("unknown command");
}
