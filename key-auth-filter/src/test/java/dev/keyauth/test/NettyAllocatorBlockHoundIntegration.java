package dev.keyauth.test;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Netty 4.2's adaptive buffer allocator takes a {@code StampedLock} for a moment when two event
 * loops grow the same magazine group at once: internal to Netty, bounded, and not something a
 * filter can avoid. BlockHound would report it from whichever request happened to allocate
 * then; every other blocking call on an event loop still fails the test that made it.
 */
public class NettyAllocatorBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup",
				"tryExpandMagazines");
		builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
	}

}
