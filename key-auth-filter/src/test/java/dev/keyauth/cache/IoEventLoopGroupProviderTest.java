package dev.keyauth.cache;

import java.util.concurrent.TimeUnit;

import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.netty.resources.LoopResources;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class IoEventLoopGroupProviderTest {

	private final IoEventLoopGroupProvider provider = new IoEventLoopGroupProvider(1);

	private final LoopResources gateway = LoopResources.create("gateway-like", 1, true);

	@AfterEach
	void shutDown() {
		this.provider.close();
		this.gateway.dispose();
	}

	@Test
	@SuppressWarnings("deprecation")
	void lettucesEpollLoopsAreOfTheGatewaysClass() {
		assumeTrue(Epoll.isAvailable(), "epoll is not available here");
		EventLoopGroup lettuce = this.provider.allocate(EpollEventLoopGroup.class);
		Class<?> gatewayLoop = this.gateway.onClient(true).next().getClass();
		assertThat(lettuce.next().getClass()).isSameAs(gatewayLoop);
		assertThat(((IoEventLoopGroup) lettuce).isIoType(EpollIoHandler.class)).isTrue();
		// What Lettuce makes for itself: loops of another class, which is what this avoids.
		EventLoopGroup legacy = new EpollEventLoopGroup(1);
		try {
			assertThat(legacy.next().getClass()).isNotSameAs(gatewayLoop);
		}
		finally {
			legacy.shutdownGracefully(0, 1, TimeUnit.SECONDS);
		}
	}

	@Test
	@SuppressWarnings("deprecation")
	void lettucesNioLoopsAreOfTheGatewaysClass() throws Exception {
		EventLoopGroup lettuce = this.provider.allocate(NioEventLoopGroup.class);
		assertThat(lettuce.next().getClass()).isSameAs(this.gateway.onClient(false).next().getClass());
		assertThat(((IoEventLoopGroup) lettuce).isIoType(NioIoHandler.class)).isTrue();
		// Named as Lettuce names its own.
		assertThat(lettuce.submit(() -> Thread.currentThread().getName()).get(5, TimeUnit.SECONDS))
			.startsWith("lettuce-nioEventLoop-");
	}

	@Test
	@SuppressWarnings("deprecation")
	void aGroupIsSharedUntilItsLastRelease() {
		EventLoopGroup first = this.provider.allocate(NioEventLoopGroup.class);
		EventLoopGroup second = this.provider.allocate(NioEventLoopGroup.class);
		assertThat(second).isSameAs(first);
		assertThat(this.provider.release(first, 0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS))
			.isTrue();
		assertThat(first.isShuttingDown()).isFalse();
		assertThat(this.provider.release(second, 0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS))
			.isTrue();
		assertThat(first.isShuttingDown()).isTrue();
		// A connection made after that gets a new group, not the dead one.
		EventLoopGroup third = this.provider.allocate(NioEventLoopGroup.class);
		assertThat(third).isNotSameAs(first);
		assertThat(third.isShuttingDown()).isFalse();
	}

	@Test
	@SuppressWarnings("deprecation")
	void closeShutsEveryGroupDown() {
		EventLoopGroup group = this.provider.allocate(NioEventLoopGroup.class);
		this.provider.close();
		assertThat(group.isTerminated()).isTrue();
	}

	@Test
	@SuppressWarnings("deprecation")
	void otherTransportsAreLeftToLettuce() {
		assertThat(IoEventLoopGroupProvider.transportFor(DefaultEventLoopGroup.class)).isNull();
		assertThat(IoEventLoopGroupProvider.transportFor(NioEventLoopGroup.class)).isNotNull();
	}

}
