package dev.keyauth.admin;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AdminAuditLogTest {

	@Test
	void aConsumerIdCannotPassForAnotherField() {
		assertThat(AdminAuditLog.quoted("acme by=10.0.0.1")).isEqualTo("\"acme by=10.0.0.1\"");
		assertThat(AdminAuditLog.quoted("a\" by=10.0.0.1 x=\"")).isEqualTo("\"a\\\" by=10.0.0.1 x=\\\"\"");
		assertThat(AdminAuditLog.quoted("back\\slash")).isEqualTo("\"back\\\\slash\"");
	}

}
