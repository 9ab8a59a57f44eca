// Writes the .hgrm golden files with HdrHistogram's Java library (the reference printer):
// reads histograms.txt (see examples/hgrm_inputs.rs for the format) and writes one
// <name>.hgrm per histogram into the output directory, as
// outputPercentileDistribution(out, 5 ticks per half-distance, 1000.0: microseconds -> ms).
//
//   javac -cp /usr/share/java/hdrhistogram.jar -d /tmp/hgrm-java HgrmGolden.java
//   java -cp /usr/share/java/hdrhistogram.jar:/tmp/hgrm-java HgrmGolden histograms.txt golden/
import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.FileReader;
import java.io.PrintStream;
import org.HdrHistogram.Histogram;

public class HgrmGolden {
    public static void main(String[] args) throws Exception {
        try (BufferedReader in = new BufferedReader(new FileReader(args[0]))) {
            String line;
            Histogram h = null;
            String name = null;
            while ((line = in.readLine()) != null) {
                String[] f = line.trim().split(" ");
                if (f[0].equals("histogram")) {
                    name = f[1];
                    h = new Histogram(Long.parseLong(f[2]), Long.parseLong(f[3]),
                            Integer.parseInt(f[4]));
                } else if (f[0].equals("end")) {
                    try (PrintStream out = new PrintStream(
                            new FileOutputStream(args[1] + "/" + name + ".hgrm"), false, "US-ASCII")) {
                        h.outputPercentileDistribution(out, 5, 1000.0);
                    }
                    h = null;
                } else if (!f[0].isEmpty()) {
                    h.recordValueWithCount(Long.parseLong(f[0]), Long.parseLong(f[1]));
                }
            }
        }
    }
}
