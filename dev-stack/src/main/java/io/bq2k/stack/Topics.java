package io.bq2k.stack;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Topic administration on the stack's single broker (replication factor 1). */
public final class Topics {

    private final String bootstrap;

    Topics(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    /** An admin client on {@code bootstrap} with short timeouts (caller closes it). */
    static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, StackSettings.MODULE);
        return Admin.create(p);
    }

    public Admin admin() {
        return admin(bootstrap);
    }

    /** Creates a topic unless it exists; returns true if it was created. */
    public boolean create(String name, int partitions, Map<String, String> configs) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(configs))).all().get(30, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                return false;
            }
            throw new IllegalStateException("creating topic " + name + " failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException("creating topic " + name + " failed: " + e, e);
        }
    }

    public Set<String> list() {
        try (Admin admin = admin()) {
            return new TreeSet<>(admin.listTopics().names().get(30, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException("listing topics failed: " + e, e);
        }
    }

    public void delete(String name) {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(name)).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("deleting topic " + name + " failed: " + e, e);
        }
    }
}
