import { describeExample } from '../readme/describe-example';

describeExample('discretize-tfjs-layers');
