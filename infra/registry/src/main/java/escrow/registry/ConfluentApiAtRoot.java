package escrow.registry;

import io.vertx.ext.web.Router;
import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.event.Observes;

/**
 * Serves Apicurio's Confluent-compatible API at the root, where Confluent
 * clients expect it: GET /subjects becomes GET /apis/ccompat/v7/subjects.
 * Apicurio's own API (/apis/...) and health endpoints stay where they are.
 */
@ApplicationScoped
public class ConfluentApiAtRoot {
  private static final String CONFLUENT_API = "/apis/ccompat/v7";

  void mount(@Observes Router router) {
    router
        .route()
        .order(Integer.MIN_VALUE)
        .handler(
            context -> {
              String path = context.normalizedPath();
              boolean confluentPath =
                  path.startsWith("/subjects")
                      || path.startsWith("/schemas")
                      || path.startsWith("/config")
                      || path.startsWith("/compatibility")
                      || path.startsWith("/mode");
              if (confluentPath) {
                context.reroute(CONFLUENT_API + context.request().uri());
              } else {
                context.next();
              }
            });
  }
}
