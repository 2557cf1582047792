//! A blocking facade for the CLI: owns a small tokio runtime and runs the
//! async client on it. The producer's hot path (`send`) does not enter the
//! runtime at all; it appends to a batch and returns.
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use super::admin::Admin;
use super::consumer::{Consumer, ConsumerConfig, ConsumerRecord, FetchedPartition, StartOffset};
use super::error::Result;
use super::metadata::{Client, ClientConfig};
use super::producer::{Producer, ProducerConfig, ProducerRecord, TrySendError};

/// The runtime shared by the blocking objects of one command.
pub struct Runtime {
    rt: tokio::runtime::Runtime,
}

impl Runtime {
    /// Two workers: one for the sender/reader tasks while the calling
    /// thread encodes records, one spare for the writer.
    pub fn new() -> std::io::Result<Arc<Runtime>> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("strom-client")
            .enable_all()
            .build()?;
        Ok(Arc::new(Runtime { rt }))
    }

    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.rt.handle()
    }

    /// Catches Ctrl-C (SIGINT) and SIGTERM from now on, instead of dying,
    /// and reports the first through the returned signal, so a command can
    /// deliver, commit and leave its group. SIGTERM is how systemd, `docker
    /// stop` and Kubernetes ask a process to stop, so it gets the same
    /// clean stop as Ctrl-C. A second signal while the command is still
    /// cleaning up (say, a broker that is gone) exits at once, 128 + signal.
    pub fn stop_on_signal(&self) -> Arc<StopSignal> {
        let stop = Arc::new(StopSignal::default());
        let s = stop.clone();
        self.rt.spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            let mut presses = 0;
            loop {
                let code = tokio::select! {
                    _ = int.recv() => 130,
                    _ = term.recv() => 143,
                };
                presses += 1;
                if presses > 1 {
                    std::process::exit(code);
                }
                s.trigger();
            }
        });
        stop
    }
}

/// A one-way "stop now" flag that async code can also wait for.
#[derive(Default)]
pub struct StopSignal {
    flag: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    pub async fn wait(&self) {
        loop {
            let n = self.notify.notified();
            tokio::pin!(n);
            n.as_mut().enable();
            if self.is_set() {
                return;
            }
            n.await;
        }
    }
}

/// A connected client plus its runtime.
#[derive(Clone)]
pub struct BlockingClient {
    rt: Arc<Runtime>,
    client: Client,
}

impl BlockingClient {
    pub fn connect(rt: Arc<Runtime>, config: ClientConfig) -> Result<BlockingClient> {
        let client = rt.block_on(Client::connect(config))?;
        Ok(BlockingClient { rt, client })
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.rt
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs any async client operation to completion.
    pub fn run<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn admin(&self) -> Admin {
        Admin::new(self.client.clone())
    }

    pub fn producer(&self, config: ProducerConfig) -> BlockingProducer {
        let _guard = self.rt.handle().enter();
        BlockingProducer {
            rt: self.rt.clone(),
            producer: Producer::new(self.client.clone(), config),
        }
    }

    pub fn consumer(&self, config: ConsumerConfig) -> BlockingConsumer {
        BlockingConsumer {
            rt: self.rt.clone(),
            consumer: Consumer::new(self.client.clone(), config),
        }
    }
}

pub struct BlockingProducer {
    rt: Arc<Runtime>,
    producer: Producer,
}

impl BlockingProducer {
    /// Queues a record; blocks only to look a topic up or when the buffer
    /// is full. Delivery is reported through the producer's callback.
    pub fn send(&self, rec: &ProducerRecord<'_>) -> Result<()> {
        loop {
            match self.producer.try_send(rec) {
                Ok(_) => return Ok(()),
                Err(TrySendError::NeedMetadata) => {
                    self.rt.block_on(self.producer.prepare_topic(rec.topic))?
                }
                Err(TrySendError::Full) => self.producer.wait_for_space_blocking(),
                Err(TrySendError::Failed(e)) => return Err(e),
            }
        }
    }

    pub fn prepare_topic(&self, topic: &str) -> Result<()> {
        self.rt.block_on(self.producer.prepare_topic(topic))
    }

    /// See [`Producer::commit_transaction`].
    pub fn commit_transaction(&self) -> Result<()> {
        self.rt.block_on(self.producer.commit_transaction())
    }

    /// See [`Producer::abort_transaction`].
    pub fn abort_transaction(&self) -> Result<()> {
        self.rt.block_on(self.producer.abort_transaction())
    }

    pub fn flush(&self) {
        self.rt.block_on(self.producer.flush())
    }

    pub fn close(&self) {
        self.rt.block_on(self.producer.close())
    }

    pub fn inner(&self) -> &Producer {
        &self.producer
    }
}

pub struct BlockingConsumer {
    rt: Arc<Runtime>,
    consumer: Consumer,
}

impl BlockingConsumer {
    pub fn assign(
        &mut self,
        topic: &str,
        partitions: Option<&[i32]>,
        start: StartOffset,
    ) -> Result<()> {
        self.rt
            .block_on(self.consumer.assign(topic, partitions, start))
    }

    /// The next records, or `Ok(None)` when `stop` fired first.
    pub fn poll(&mut self, stop: Option<&StopSignal>) -> Result<Option<Vec<ConsumerRecord>>> {
        let consumer = &mut self.consumer;
        self.rt.block_on(async move {
            match stop {
                None => consumer.poll().await.map(Some),
                Some(s) => tokio::select! {
                    r = consumer.poll() => r.map(Some),
                    _ = s.wait() => Ok(None),
                },
            }
        })
    }

    /// Like `poll` without decoding, for callers that only count.
    pub fn poll_raw(&mut self, stop: Option<&StopSignal>) -> Result<Option<Vec<FetchedPartition>>> {
        let consumer = &mut self.consumer;
        self.rt.block_on(async move {
            match stop {
                None => consumer.poll_raw().await.map(Some),
                Some(s) => tokio::select! {
                    r = consumer.poll_raw() => r.map(Some),
                    _ = s.wait() => Ok(None),
                },
            }
        })
    }

    pub fn at_end(&self) -> bool {
        self.consumer.at_end()
    }

    pub fn inner(&mut self) -> &mut Consumer {
        &mut self.consumer
    }
}
