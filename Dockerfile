# The reference gateway as an image: docker build -t keyauth-gateway .
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY key-auth-filter/pom.xml key-auth-filter/
COPY gateway-app/pom.xml gateway-app/
COPY key-auth-filter/src key-auth-filter/src
COPY gateway-app/src gateway-app/src
RUN ./mvnw -B -q -DskipTests package

FROM eclipse-temurin:17-jre
RUN useradd --system --home-dir /app gateway && mkdir -p /app/data && chown gateway /app/data
WORKDIR /app
COPY --from=build /src/gateway-app/target/gateway-app.jar /app/gateway-app.jar
COPY routes.yml /app/routes.yml
USER gateway
# Inside a container the management port must listen beyond loopback; publish it only on the
# host's loopback (see docker-compose.yml).
ENV MANAGEMENT_ADDRESS=0.0.0.0 \
    GATEWAY_DATA_DIR=/app/data \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75"
EXPOSE 8080 8081
VOLUME /app/data
ENTRYPOINT ["java", "-jar", "/app/gateway-app.jar"]
