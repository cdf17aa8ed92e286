// Oracle for maven.test.ts: reads versions (one a line) and prints one line per version with
// <, = or > against every version, compared by maven-artifact's ComparableVersion.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class MavenOracle {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        List<ComparableVersion> vs = new ArrayList<>();
        for (String line; (line = in.readLine()) != null; ) vs.add(new ComparableVersion(line));
        for (ComparableVersion a : vs) {
            StringBuilder row = new StringBuilder();
            for (ComparableVersion b : vs) {
                int c = a.compareTo(b);
                row.append(c < 0 ? '<' : c > 0 ? '>' : '=');
            }
            System.out.println(row);
        }
    }
}
