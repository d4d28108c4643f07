package dev.keyauth.store;

import java.time.Duration;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * A connection whose statement was abandoned (the store's timeout fired, or the caller went
 * away) is closed instead of going back to the pool.
 * <p>
 * Why: a connection PostgreSQL no longer answers on (a failover or partition that left no reset
 * behind, a middlebox that silently dropped an idle connection, a stuck backend) still looks
 * open, so the pool's validation passes it, and every statement sent on it waits out the store's
 * timeout. Given back to the pool after each timeout, the same dead connections were handed out
 * again and again: every key no cache held was answered 503, and every admin call failed, for as
 * long as the operating system kept them open (minutes), although new connections would have
 * worked. Closed, the pool discards each one when it is given back (r2dbc-pool validates a
 * connection on release), and the next statement gets a new connection.
 * <p>
 * A healthy connection whose caller merely went away is closed too; that costs one new
 * connection later, and a connection with an unfinished statement is not worth keeping anyway.
 * <p>
 * Two halves: {@link #closing(ConnectionFactory)} wraps the factory the store's client uses, and
 * {@link #guard(Mono)} marks a store call as abandoned when it is cancelled. Calls not guarded,
 * and connections of factories not wrapped, behave as before.
 */
public final class AbandonedConnections {

	private AbandonedConnections() {
	}

	/** {@code factory}, whose connections lent to a guarded call are closed if it is abandoned. */
	public static ConnectionFactory closing(ConnectionFactory factory) {
		return (factory instanceof ClosingFactory) ? factory : new ClosingFactory(factory);
	}

	/** The call, marked as abandoned if it is cancelled before it ends. */
	static <T> Mono<T> guard(Mono<T> call) {
		return Mono.defer(() -> {
			Abandonment abandonment = new Abandonment();
			// doOnCancel runs before the cancellation reaches the client, which then closes
			// (gives back) the connection: the mark is set by then.
			return call.doOnCancel(abandonment::mark).contextWrite(Context.of(Abandonment.class, abandonment));
		});
	}

	/** The call, marked as abandoned if it is cancelled before it ends. */
	static <T> Flux<T> guard(Flux<T> call) {
		return Flux.defer(() -> {
			Abandonment abandonment = new Abandonment();
			return call.doOnCancel(abandonment::mark).contextWrite(Context.of(Abandonment.class, abandonment));
		});
	}

	/** The driver's own connection under any wrappers (the pool's, this class's). */
	static Connection physical(Connection connection) {
		Connection current = connection;
		while (current instanceof Wrapped<?> wrapped && wrapped.unwrap() instanceof Connection inner
				&& inner != current) {
			current = inner;
		}
		return current;
	}

	private static final class Abandonment {

		private volatile boolean abandoned;

		void mark() {
			this.abandoned = true;
		}

		boolean isAbandoned() {
			return this.abandoned;
		}

	}

	private static final class ClosingFactory implements ConnectionFactory, Wrapped<ConnectionFactory> {

		private final ConnectionFactory delegate;

		ClosingFactory(ConnectionFactory delegate) {
			this.delegate = delegate;
		}

		@Override
		public Publisher<? extends Connection> create() {
			return Mono.deferContextual((context) -> {
				Mono<Connection> connection = Mono.from(this.delegate.create());
				Abandonment abandonment = context.getOrDefault(Abandonment.class, null);
				return (abandonment != null) ? connection.map((lent) -> new GuardedConnection(lent, abandonment))
						: connection;
			});
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return this.delegate.getMetadata();
		}

		@Override
		public ConnectionFactory unwrap() {
			return this.delegate;
		}

	}

	/** Passes everything on, except what must not wait on a dead connection once abandoned. */
	private static final class GuardedConnection implements Connection, Wrapped<Connection> {

		private final Connection delegate;

		private final Abandonment abandonment;

		GuardedConnection(Connection delegate, Abandonment abandonment) {
			this.delegate = delegate;
			this.abandonment = abandonment;
		}

		@Override
		public Publisher<Void> close() {
			if (!this.abandonment.isAbandoned()) {
				return this.delegate.close();
			}
			Connection physical = physical(this.delegate);
			if (physical == this.delegate) {
				return this.delegate.close();
			}
			// The pooled connection's release validates it first; closed, it is discarded.
			return Mono.from(physical.close()).onErrorComplete().then(Mono.from(this.delegate.close()));
		}

		@Override
		public Publisher<Void> rollbackTransaction() {
			if (this.abandonment.isAbandoned()) {
				// A rollback would wait on the connection that did not answer; PostgreSQL rolls
				// back a transaction whose connection is closed.
				return Mono.from(physical(this.delegate).close()).onErrorComplete();
			}
			return this.delegate.rollbackTransaction();
		}

		@Override
		public Publisher<Void> beginTransaction() {
			return this.delegate.beginTransaction();
		}

		@Override
		public Publisher<Void> beginTransaction(TransactionDefinition definition) {
			return this.delegate.beginTransaction(definition);
		}

		@Override
		public Publisher<Void> commitTransaction() {
			return this.delegate.commitTransaction();
		}

		@Override
		public Batch createBatch() {
			return this.delegate.createBatch();
		}

		@Override
		public Publisher<Void> createSavepoint(String name) {
			return this.delegate.createSavepoint(name);
		}

		@Override
		public Statement createStatement(String sql) {
			return this.delegate.createStatement(sql);
		}

		@Override
		public boolean isAutoCommit() {
			return this.delegate.isAutoCommit();
		}

		@Override
		public ConnectionMetadata getMetadata() {
			return this.delegate.getMetadata();
		}

		@Override
		public IsolationLevel getTransactionIsolationLevel() {
			return this.delegate.getTransactionIsolationLevel();
		}

		@Override
		public Publisher<Void> releaseSavepoint(String name) {
			return this.delegate.releaseSavepoint(name);
		}

		@Override
		public Publisher<Void> rollbackTransactionToSavepoint(String name) {
			return this.delegate.rollbackTransactionToSavepoint(name);
		}

		@Override
		public Publisher<Void> setAutoCommit(boolean autoCommit) {
			return this.delegate.setAutoCommit(autoCommit);
		}

		@Override
		public Publisher<Void> setLockWaitTimeout(Duration timeout) {
			return this.delegate.setLockWaitTimeout(timeout);
		}

		@Override
		public Publisher<Void> setStatementTimeout(Duration timeout) {
			return this.delegate.setStatementTimeout(timeout);
		}

		@Override
		public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
			return this.delegate.setTransactionIsolationLevel(isolationLevel);
		}

		@Override
		public Publisher<Boolean> validate(ValidationDepth depth) {
			return this.delegate.validate(depth);
		}

		@Override
		public Connection unwrap() {
			return this.delegate;
		}

	}

}
